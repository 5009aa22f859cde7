// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title StakingPool
/// @notice A pool that records each staker's ether.
contract StakingPoolTest016 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public governor;
    uint256 public feeBps;
    uint256 public totalHeld;
    bool public paused;
    mapping(address => uint256) public contributions;
    mapping(address => bool) public isMember;
    address[] public members;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == governor, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        governor = msg.sender;
        feeBps = initialFee;
    }

    function heldBalance() external view returns (uint256) {
        return totalHeld;
    }

    /// @notice Stop or resume deposits.
    function setPaused(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Send the caller's whole balance back to the caller.
    function withdrawAll() external {
        uint256 amount = contributions[msg.sender];
        require(amount > 0, "nothing to claim");
        contributions[msg.sender] = 0;
        totalHeld -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice `account`'s share of the pool, in basis points.
    function sharePercent(address account) external view returns (uint256) {
        if (totalHeld == 0) {
            return 0;
        }
        return contributions[account] * BPS_DENOMINATOR / totalHeld;
    }

    /// @notice Add the ether sent to the caller's balance.
    function contribute() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        contributions[msg.sender] += msg.value;
        totalHeld += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Add the caller to the member list once.
    function _join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        members.push(msg.sender);
    }

    /// @notice The protocol fee on `amount`, in wei.
    function feeFor(uint256 amount) public view returns (uint256) {
        return amount * feeBps / BPS_DENOMINATOR;
    }
}
