// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title StakingPool
/// @notice A pool that records each staker's ether.
contract StakingPoolTest019 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public admin;
    uint256 public feeBps;
    uint256 public totalDeposited;
    bool public paused;
    mapping(address => uint256) public balances;
    mapping(address => bool) public isMember;
    address[] public members;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == admin, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        admin = msg.sender;
        feeBps = initialFee;
    }

    function register() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        members.push(msg.sender);
    }

    /// @notice Stop or resume deposits.
    function setHalted(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function setFee(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(feeBps, newFee);
        feeBps = newFee;
    }

    /// @notice Add the ether sent to the caller's balance.
    function deposit() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        balances[msg.sender] += msg.value;
        totalDeposited += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice The ether the pool owes its members.
    function pooledEther() external view returns (uint256 sum) {
        for (uint256 i = 0; i < members.length; i++) {
            sum += balances[members[i]];
        }
    }

    /// @notice Send `amount` of the caller's balance back to the caller.
    function withdraw(uint256 amount) external {
        require(balances[msg.sender] >= amount, "insufficient balance");
        balances[msg.sender] -= amount;
        totalDeposited -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice The protocol fee on `amount`, in wei.
    function feeFor(uint256 amount) public view returns (uint256) {
        return amount * feeBps / BPS_DENOMINATOR;
    }
}
