// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Escrow
/// @notice An escrow that holds deposits until they are withdrawn.
contract EscrowTest047 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public owner;
    uint256 public feeBps;
    uint256 public totalDeposited;
    bool public paused;
    mapping(address => uint256) public stakes;
    mapping(address => bool) public isMember;
    address[] public holders;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        owner = msg.sender;
        feeBps = initialFee;
    }

    /// @notice Add the caller to the member list once.
    function join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        holders.push(msg.sender);
    }

    /// @notice Send the caller's whole balance back to the caller.
    function exitPool() external {
        uint256 amount = stakes[msg.sender];
        require(amount > 0, "nothing to claim");
        stakes[msg.sender] = 0;
        totalDeposited -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Set the protocol fee in basis points.
    function updateFee(uint256 newFee) external onlyOwner {
        require(newFee <= 500, "fee too high");
        emit FeeChanged(feeBps, newFee);
        feeBps = newFee;
    }

    /// @notice Return `account`'s whole balance to it.
    function repay(address payable account) external onlyOwner {
        uint256 amount = stakes[account];
        stakes[account] = 0;
        totalDeposited -= amount;
        (bool ok, ) = account.call{value: amount}("");
        require(ok, "refund failed");
        emit Withdrawn(account, amount);
    }

    /// @notice `account`'s share of the pool, in basis points.
    function shareOf(address account) external view returns (uint256) {
        if (totalDeposited == 0) {
            return 0;
        }
        return stakes[account] * BPS_DENOMINATOR / totalDeposited;
    }

    /// @notice Add the ether sent to the caller's balance.
    function deposit() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        stakes[msg.sender] += msg.value;
        totalDeposited += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Stop or resume deposits.
    function _setPaused(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Send `amount` of ether the pool does not owe anyone to `to`.
    function _rescueEther(address payable to, uint256 amount) external onlyOwner {
        require(to != address(0), "zero address");
        require(address(this).balance - totalDeposited >= amount, "would touch deposits");
        (bool ok, ) = to.call{value: amount}("");
        require(ok, "sweep failed");
        emit Swept(to, amount);
    }
}
